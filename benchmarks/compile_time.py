"""Seconds JAX spent tracing, lowering and compiling, from its monitoring events: splits a timed run
into compile time and the rest (a long run pays compiles once; a short benchmark pays them in full)."""

from __future__ import annotations

import jax

COMPILE_EVENTS = ('/jax/core/compile/jaxpr_trace_duration', '/jax/core/compile/jaxpr_to_mlir_module_duration',
                  '/jax/core/compile/backend_compile_duration')


class CompileTimer:
    """Sums compile-event durations since creation (or the last `reset`)."""

    def __init__(self):
        self.seconds, self.backend_compiles = 0.0, 0
        jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, event: str, duration: float, **_):
        if event in COMPILE_EVENTS:
            self.seconds += duration
            self.backend_compiles += event == COMPILE_EVENTS[-1]

    def reset(self):
        self.seconds, self.backend_compiles = 0.0, 0
