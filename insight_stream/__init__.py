"""insight-stream: a real-time customer-insight engine for e-commerce.

Layers, dependencies flowing one way:
``events -> models -> processor -> (sim, evaluate, bench) -> runtime -> cli``.
"""

__version__ = "0.1.0"
