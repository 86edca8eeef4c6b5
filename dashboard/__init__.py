"""The backprop-lab Streamlit app: thin pages over backprop_core."""
