"""Threads: the GIL is released while the library runs (ctypes.CDLL), so threads holding
their own models run at the same time and get the results of serial runs; one model shared by
threads serialises their calls."""
import threading
import time

import numpy as np

import irv2


def run_threads(targets):
    errors = []

    def wrap(fn):
        def body():
            try:
                fn()
            except BaseException as e:  # reported by the main thread
                errors.append(e)
        return body

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a thread did not finish"
    assert not errors, errors


def test_concurrent_models_match_serial(batch2):
    seeds = ("synthetic:1", "synthetic:2")
    models = [irv2.Model(s) for s in seeds]
    try:
        serial = [m(batch2) for m in models]
        results = {}

        def work(i):
            def body():
                results[i] = [models[i](batch2) for _ in range(3)]
            return body

        run_threads([work(0), work(1)])
        for i in range(2):
            assert len(results[i]) == 3
            for y in results[i]:
                assert np.array_equal(y, serial[i])
        assert not np.array_equal(serial[0], serial[1])
    finally:
        for m in models:
            m.close()


def test_models_created_in_threads(batch2, model):
    expected = model(batch2[:1])
    out = {}

    def work(i):
        def body():
            with irv2.Model("synthetic:1", device=model.device) as m:
                out[i] = m(batch2[:1])
        return body

    run_threads([work(i) for i in range(2)])
    for i in range(2):
        assert np.array_equal(out[i], expected)


def test_gil_released_during_inference(model, batch2):
    """While the main thread waits in irv2_model_run, a Python thread keeps counting. Were the
    GIL held for the call, the counter could not move until it returned."""
    model(batch2)  # planned for this batch size: the timed call is a pure run
    stop = threading.Event()
    ticks = [0]

    def count():
        while not stop.is_set():
            ticks[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        time.sleep(0.05)
        before = ticks[0]
        t0 = time.perf_counter()
        model(batch2)
        elapsed = time.perf_counter() - t0
        during = ticks[0] - before
    finally:
        stop.set()
        counter.join()
    # Held, `during` would be at most a handful (the switch just before and after the call).
    assert during > 1000, "counter advanced %d in %.3f s of inference" % (during, elapsed)


def test_shared_model_serialises(model, batch2):
    expected = model(batch2[:1])
    out = []

    def body():
        out.append(model(batch2[:1]))

    run_threads([body] * 3)
    assert len(out) == 3 and all(np.array_equal(y, expected) for y in out)
