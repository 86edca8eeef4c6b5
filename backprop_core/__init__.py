"""backprop_core: the math and training behind backprop-lab.

Pure package: torch, numpy and pandas only. It never imports streamlit; the dashboard
subscribes to it through plain config objects and callbacks.
"""

__all__ = ["activations", "hand", "models", "manual", "check", "data", "config",
           "training", "diagnose", "sweep", "theory"]
