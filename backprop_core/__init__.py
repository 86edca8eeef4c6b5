"""backprop_core: the math and training behind backprop-lab.

Pure package: torch, numpy and pandas only. It never imports streamlit; the dashboard
subscribes to it through plain config objects and callbacks.
"""
