"""The floor for UI latency: one 'Depth' slider and a 20-point Altair chart, no real work."""
import altair as alt
import pandas as pd
import streamlit as st

depth = st.slider("Depth", 1, 64, 6, key="depth", bind="query-params")
st.write(f"Depth is {depth}")
df = pd.DataFrame({"x": range(20), "y": [depth * i / 20 + i % 3 for i in range(20)]})
st.altair_chart(alt.Chart(df).mark_line(point=True).encode(x="x:Q", y="y:Q"), width="stretch")
