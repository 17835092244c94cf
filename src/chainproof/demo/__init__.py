"""The embedded sample and the ``chainproof demo`` walk-through."""
