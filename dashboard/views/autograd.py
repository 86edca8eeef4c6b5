import streamlit as st

from backprop_core.check import ATOL, EPS, FD_EPS, RTOL
from backprop_core.config import AUTOGRAD_PARAMS, HAND_PARAMS, hand_inputs
from backprop_core.manual import BUG_LABELS
from dashboard import charts, compute, controls

notices = controls.prepare(HAND_PARAMS + AUTOGRAD_PARAMS)
params = {p.key: p for p in AUTOGRAD_PARAMS}

st.title("Hand vs autograd vs finite differences")
st.markdown("Three independent ways to get the same gradient: the chain rule by hand, PyTorch's "
            "`loss.backward()`, and nudging each weight by ±ε and watching the loss "
            "(a central finite difference). When all three agree, the derivation is right.")
controls.show_notices(notices)

x, W1, W2, y, act = hand_inputs(controls.hand_panel())
dtype = controls.widget(params["dtype"], st.columns(4)[0])

ledger = compute.ledger(tuple(x), tuple(map(tuple, W1)), tuple(map(tuple, W2)), y, act, dtype)
st.subheader(f"Three-way ledger in {dtype}")
st.dataframe(ledger, hide_index=True, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="%.6e" if "err" in c else "%.8f")
    for c in ("hand", "autograd", "finite_diff", "abs_err", "rel_err", "fd_abs_err")})
passed = int(ledger["pass"].sum())
st.caption(f"{passed} of {len(ledger)} entries pass: |a − b| ≤ {ATOL:g} + {RTOL:g}·|b| (torch.autograd.gradcheck's "
           f"defaults), for hand vs autograd and for finite difference vs hand. Finite-difference step "
           f"ε = {FD_EPS[dtype]:g}.")
if dtype == "float32":
    st.info("**Why float32 differs.** float32 keeps about 7 significant digits (machine epsilon ≈ 1.2e-7), "
            "float64 about 16 (≈ 2.2e-16). Autograd in float32 rounds every intermediate value, so it "
            "drifts from the exact hand result by ~1e-8. Finite differences suffer twice: the loss is "
            "only known to ~1e-7, and dividing that noise by 2ε amplifies it, so ε must be large "
            f"({FD_EPS['float32']:g}) and the estimate is good to only ~1e-5.", icon=":material/calculate:")
else:
    st.caption(f"In float64 the hand result and autograd agree to the last bit or two; finite differences "
               f"with ε = {EPS:g} agree to ~1e-10.")

st.subheader("Deep mode: the manual backward pass of any MLP vs autograd")
cols = st.columns(5)
deep = {k: controls.widget(params[k], col) for k, col in
        zip(("deep_depth", "deep_width", "deep_act", "deep_norm", "deep_res"), cols, strict=True)}
b1, b2, _ = st.columns([1.2, 1.2, 2])
bug = controls.widget(params["bug"], b1)
bug_layer = controls.widget(params["bug_layer"], b2)
report = compute.model_report(deep["deep_depth"], deep["deep_width"], deep["deep_act"], deep["deep_norm"],
                              deep["deep_res"], dtype, bug, bug_layer)
left, right = st.columns([1.1, 1])
with left:
    compute.chart(st, ("errors", tuple(deep.values()), dtype, bug, bug_layer),
                  lambda: charts.error_dots(report.tensors, "rel_err",
                                            "Manual backward vs autograd, per parameter tensor",
                                            "relative error (log scale)"))
with right:
    st.dataframe(report.tensors, hide_index=True, width="stretch", column_config={
        "max_abs_err": st.column_config.NumberColumn(format="%.2e"),
        "rel_err": st.column_config.NumberColumn(format="%.2e")})
    with st.expander(f"Finite differences on {len(report.samples)} sampled entries"):
        st.dataframe(report.samples, hide_index=True, width="stretch")

st.subheader("Break it")
if bug == "none":
    st.success("No mistake planted: every tensor passes. Pick a classic mistake above and see whether the "
               "checker catches it, and where.", icon=":material/check_circle:")
elif report.first_bad_layer is None:
    st.warning(f"Planted “{BUG_LABELS[bug]}” at layer {min(bug_layer, deep['deep_depth'])}, but it changes "
               "nothing here (for example, a transpose of a non-square matrix cannot be dropped, or the "
               "layer does not exist). Try another layer.", icon=":material/help:")
else:
    st.error(f"Planted “{BUG_LABELS[bug]}” at layer {min(bug_layer, deep['deep_depth'])}. Walking back from the "
             f"output, the first layer whose gradient disagrees with autograd is **layer "
             f"{report.first_bad_layer}**: the layers above it are still right, because backprop computes "
             "them before it reaches the mistake.", icon=":material/bug_report:")
