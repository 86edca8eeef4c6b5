"""Home: what backpropagation is, the learning path with a link to every preset, and how to share a view."""
import streamlit as st

from backprop_core.presets import HAND_PRESETS
from dashboard.links import hand_query, train_query

# ---- read params: none, the links below carry their own
EXAMPLE_POINTS = "-1.5:-1:0,-1:-1.8:0,-0.5:-1:0,-2:0.5:0,1:1:1,1.5:0.2:1,0.5:1.8:1,2:-0.4:1"
FOCUSED_HIDE = "width,init,norm,residual,opt,lr,epochs,seed,data,n,noise,batch,wd,clip,dseed,fix"

# ---- draw
st.title("backprop-lab")
st.markdown(
    "**Backpropagation** is how a neural network finds out which way to nudge each weight. "
    "The forward pass turns inputs into a prediction and a loss. The backward pass applies the "
    "chain rule from the loss back to every weight, multiplying local slopes layer by layer. "
    "Each weight's gradient says how much the loss would change if that weight moved a little. "
    "When those products of slopes shrink at every layer, the early layers stop learning: "
    "the *vanishing gradient*. Here you can see every one of those numbers.")

st.subheader("The learning path")
cards = [
    ("views/hand.py", "1 · Gradients by hand",
     "Derive a 2-layer network's gradients step by step, then check your own answers.",
     [("Seed demo", hand_query(HAND_PRESETS["seed demo"])),
      ("Exercise 1", hand_query(HAND_PRESETS["exercise 1"])),
      ("Backprop step by step", {"step": "1"})]),
    ("views/autograd.py", "2 · Hand vs autograd",
     "Compare your derivation with PyTorch's .backward() and finite differences; break backprop on purpose.",
     [("float32 vs float64", {"dtype": "float32"}),
      ("Break layer 3", {"bug": "no_act_grad", "bug_layer": "3"})]),
    ("views/flow.py", "3 · Gradient flow",
     "Train a network and watch the gradient of every layer, epoch by epoch.",
     [("Seed demo 3", train_query("seed demo 3", "flow")),
      ("Healthy deep ReLU", train_query("healthy deep relu", "flow")),
      ("Your own data: click to add points", {"data": "custom", "pts": EXAMPLE_POINTS})]),
    ("views/vanishing.py", "4 · Vanishing-gradient debugger",
     "Diagnose a dying deep network and compare it with one fix applied.",
     [("Seed demo 4", train_query("seed demo 4", "vanishing")),
      ("A dying 10-layer sigmoid net", train_query("dying 10-layer sigmoid", "vanishing")),
      ("Every fix, ranked", {"rank": "true"})]),
]
cols = [c for _ in range(2) for c in st.columns(2)]          # a 2 x 2 grid: room for the labels
for col, (page, title, text, presets) in zip(cols, cards, strict=True):
    with col.container(border=True):
        st.page_link(page, label=f"**{title}**")
        st.write(text)
        for label, query in presets:
            st.page_link(page, label=label, icon=":material/play_arrow:", query_params=query)

st.subheader("Share what you see")
st.markdown(
    "Every slider, box and toggle lives in the page address. Copy the URL from your browser and "
    "anyone who opens it sees the same network, the same numbers and the same charts: handy for "
    "a class, a homework hint or a bug report. Every page also offers **Code for this view**: a "
    "standalone PyTorch script that reproduces its numbers.")
st.markdown(
    "**For teachers:** add `hide=` with a comma-separated list of controls to a /flow or /vanishing "
    "link, and those controls disappear while the link's values still apply; the page lists what the "
    "link fixed. For example, an exercise where only depth and activation move:")
st.page_link("views/vanishing.py", label="Only depth and activation move", icon=":material/lock:",
             query_params={"hide": FOCUSED_HIDE, "fix": "batchnorm"})
