"""gpu_static: the modules of tools/gpu-static (kernel configurations, toolchains, the
instruction-mix analysis and the network model)."""
