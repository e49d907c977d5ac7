/* progress.c: the model-building progress the library reports (tuning, compiling) printed on
 * stderr once a stage has run for a moment: one line rewritten in place on a terminal, else a
 * plain line at most every few seconds and the stage's last, so that a start from warm caches
 * prints nothing and a log of a cold one stays short. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TTY_DELAY_S 0.5    /* a stage shorter than this shows nothing on a terminal */
#define LOG_INTERVAL_S 5.0 /* elsewhere: the first line after this long, then one per interval */

static struct {
    int checked, tty;
    char stage[32];          /* the stage being reported, and when it began */
    unsigned batch, done;    /* the layers done at the last report */
    double stage_t0, last_print;
    int shown;               /* something of this stage was printed */
    int width;               /* of the line on the terminal, to blank what is left of it */
} state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "1:05" or "1:02:05" */
static void clock_text(double s, char *buf, size_t cap)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress(void *user, const irv2_progress *p)
{
    (void)user;
    double t = now_s();
    if (!state.checked) {
        state.checked = 1;
        state.tty = isatty(STDERR_FILENO);
    }
    const char *stage = p->stage ? p->stage : "";
    /* a new stage: another name or batch, or the same one begun again (done went back) */
    if (strncmp(state.stage, stage, sizeof state.stage - 1) != 0 || state.batch != p->batch ||
        p->done < state.done) {
        snprintf(state.stage, sizeof state.stage, "%s", stage);
        state.batch = p->batch;
        state.stage_t0 = t, state.shown = 0, state.last_print = -1e9;
    }
    state.done = p->done;
    int last = p->done >= p->total;
    /* on a terminal a stage that measures on the device (a first run) shows at once: a report
     * before any layer is done comes only from the tuner starting to time one */
    if (state.tty ? t - state.stage_t0 < TTY_DELAY_S && !state.shown && p->measured == 0 &&
                        p->done > 0
                  : last ? !state.shown
                         : t - state.stage_t0 < LOG_INTERVAL_S ||
                               t - state.last_print < LOG_INTERVAL_S)
        return;
    state.last_print = t;
    state.shown = 1;
    char elapsed[32], eta[48] = "";
    clock_text(p->elapsed_s, elapsed, sizeof elapsed);
    if (!last && p->eta_s >= 0) {
        char left[32];
        clock_text(p->eta_s, left, sizeof left);
        snprintf(eta, sizeof eta, ", about %s left", left);
    }
    char line[512];
    const char *unit = strcmp(stage, "caching") == 0 ? "program" : "layer";
    int n = snprintf(line, sizeof line, "irv2: batch %u: %s %s %u/%u%s%s, %s elapsed%s",
                     p->batch, stage, unit, p->done, p->total, p->layer ? " " : "",
                     p->layer ? p->layer : "", elapsed, eta);
    if (n < 0) return;
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    if (state.tty) {
        if (n > 79) line[n = 79] = '\0'; /* one terminal row, or \r cannot rewrite it */
        /* rewrite the line in place, blanking the rest of a longer earlier one */
        int pad = state.width > n ? state.width - n : 0;
        fprintf(stderr, "\r%s%*s", line, pad, "");
        state.width = n;
        if (last) {
            fputc('\n', stderr);
            state.width = 0;
        }
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}
