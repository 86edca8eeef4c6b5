"""backprop-lab: entry point. `streamlit run dashboard/app.py`"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import dashboard.runtime  # noqa: E402,F401  (one torch thread, gc.freeze after heavy imports)

if "_page_config" not in st.session_state:       # once per session: later runs inherit it, and each
    st.session_state["_page_config"] = True        # call costs the browser two host messages per rerun
    st.set_page_config(page_title="backprop-lab", page_icon=":material/calculate:", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/hand.py", title="Gradients by hand", icon=":material/edit:", url_path="hand"),
    st.Page("views/autograd.py", title="Hand vs autograd", icon=":material/compare:", url_path="autograd"),
    st.Page("views/flow.py", title="Gradient flow", icon=":material/waves:", url_path="flow"),
    st.Page("views/vanishing.py", title="Vanishing-gradient debugger", icon=":material/stethoscope:",
            url_path="vanishing"),
]
st.navigation(PAGES).run()
