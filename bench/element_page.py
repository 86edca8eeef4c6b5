"""A bare Streamlit page for bench/element_costs.py: one Depth slider that reruns it, one line of
text, and N copies of one element kind (ELEMENT_KIND, ELEMENT_COUNT in the environment)."""
import os

import numpy as np
import pandas as pd
import streamlit as st

kind, n = os.environ.get("ELEMENT_KIND", "none"), int(os.environ.get("ELEMENT_COUNT", "10"))
depth = st.slider("Depth", 1, 20, 5)
st.write(f"Depth is {depth}")
LINE = {"mark": "line", "title": "A line", "height": 250, "data": {"name": "d"},
        "usermeta": {"embedOptions": {"renderer": "canvas"}},
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}}
for i in range(n if kind != "none" else 0):
    key = f"k{i}"
    if kind == "slider":
        st.sidebar.slider(f"Slider {i}", 0, 100, 50, key=key)
    elif kind == "selectbox":
        st.sidebar.selectbox(f"Select {i}", ["a", "b", "c"], key=key)
    elif kind == "number_input":
        st.sidebar.number_input(f"Number {i}", value=0.5, key=key)
    elif kind == "checkbox":
        st.sidebar.checkbox(f"Check {i}", key=key)
    elif kind == "button":
        st.button(f"Button {i}", key=key)
    elif kind == "metric":
        st.metric(f"Metric {i}", f"{depth * i}")
    elif kind == "markdown":
        st.markdown(f"**Line {i}**, depth {depth}")
    elif kind == "line_chart":
        x = np.arange(60)
        rows = pd.DataFrame({"x": x, "y": np.sin(x / (depth + 1) + i)})
        st.vega_lite_chart({**LINE, "datasets": {"d": rows}}, width="stretch")
