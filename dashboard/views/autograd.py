"""Hand vs autograd vs finite differences: the seed's net in a ledger, then any MLP in deep mode."""
import streamlit as st

from backprop_core.bugs import BUG_LABELS
from backprop_core.config import AUTOGRAD_PARAMS, HAND_PARAMS, hand_inputs
from backprop_core.precision import FD_EPS, NOISE_FACTOR, ROUNDING_FACTOR, UNIT_ROUNDOFF, precision_note
from dashboard import chart_data, charts, computing, controls

# ---- the seed's net: read params, compute, draw
notices = controls.prepare(HAND_PARAMS + AUTOGRAD_PARAMS)
params = {p.key: p for p in AUTOGRAD_PARAMS}
st.title("Hand vs autograd vs finite differences")
st.markdown("Three independent ways to get the same gradient: the chain rule by hand, PyTorch's "
            "`loss.backward()`, and nudging each weight by ±ε and watching the loss "
            "(a central finite difference). When all three agree, the derivation is right.")
controls.show_notices(notices)
v = controls.hand_panel()
x, W1, W2, y, act = hand_inputs(v)
dtype = controls.widget(params["dtype"], st.columns(4)[0])

ledger = computing.job("ledger", tuple(x), tuple(map(tuple, W1)), tuple(map(tuple, W2)), y, act, dtype)

st.subheader(f"Three-way ledger, autograd in {dtype}")
st.dataframe(ledger, hide_index=True, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="%.3e" if ("err" in c or "allowed" in c) else "%.8f")
    for c in ("hand", "autograd", "finite_diff", "abs_err", "allowed", "rel_err", "fd_abs_err", "fd_allowed")})
passed = int(ledger["pass"].sum())
st.caption(f"{passed} of {len(ledger)} entries pass. `abs_err` = |autograd − hand|; `allowed` = "
           f"{ROUNDING_FACTOR:g}·u·m, where u is the unit roundoff and m the size of the numbers the entry "
           "is computed from, so an entry whose terms cancel may keep the error of its large terms. "
           f"Finite differences always run in float64 with ε = {FD_EPS:g}; `fd_allowed` is the loss's "
           "rounding divided by 2ε plus 1e-5 of the value.")
worst = float((ledger["abs_err"] / ledger["allowed"]).max())
kinks = ledger[ledger["note"] == "kink"]
if dtype == "float32":
    st.info(f"**What float32 can resolve.** {precision_note('float32')} float64 keeps about 16 "
            f"(u = {UNIT_ROUNDOFF['float64']:.1e}). The hand column is exact float64 arithmetic; autograd "
            f"here rounds every intermediate value to float32, and its largest error on this example is "
            f"{ledger['abs_err'].max():.2e}, {worst:.2f}× its allowance. The finite differences run in "
            "float64 on a float64 copy: in float32 the two nudged losses share almost all of their "
            "7 digits, and their difference keeps almost none.", icon=":material/calculate:")
else:
    st.caption(f"{precision_note('float64')} Here the largest hand − autograd difference is "
               f"{ledger['abs_err'].max():.2e} ({worst:.2f}× its allowance) and the largest finite-difference "
               f"error {ledger['fd_abs_err'].max():.2e}.")
if len(kinks):
    st.warning(f"**At a kink:** {', '.join(kinks['parameter'])} belong to a hidden unit whose input z₁ is 0 up "
               f"to rounding. {act}'s slope jumps there, so two precisions can land on different sides, and a "
               "finite difference straddles both. Those rows pass if they match either side.",
               icon=":material/info:")
if passed < len(ledger):
    st.error("Some entries disagree beyond what rounding explains: the derivation is wrong there.",
             icon=":material/error:")

# ---- deep mode: read params, compute, draw
st.subheader("Deep mode: the manual backward pass of any MLP vs autograd")
cols = st.columns(5)
deep = {k: controls.widget(params[k], col) for k, col in
        zip(("deep_depth", "deep_width", "deep_act", "deep_norm", "deep_res"), cols, strict=True)}
b1, b2, _ = st.columns([1.2, 1.2, 2])
bug = controls.widget(params["bug"], b1)
bug_layer = controls.widget(params["bug_layer"], b2)
report = computing.job("model_report", deep["deep_depth"], deep["deep_width"], deep["deep_act"], deep["deep_norm"],
                     deep["deep_res"], dtype, bug, bug_layer)
left, right = st.columns([1.1, 1])
with left:
    st.caption(f"Manual backward vs autograd, both in {dtype}: one dot per parameter tensor.")
    charts.draw(st, "error_dots", errors=chart_data.errors(report.tensors))
with right:
    st.dataframe(report.tensors, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.2e") for c in ("max_abs_err", "rel_err", "allowed")})
    with st.expander(f"Finite differences (float64) on {len(report.samples)} sampled entries"):
        st.dataframe(report.samples, hide_index=True, width="stretch")
st.caption(f"Both passes run in {dtype} on 64 points. A tensor passes when they differ by at most "
           f"{ROUNDING_FACTOR:g}·u times the rounding of its last sum plus {NOISE_FACTOR:g}× the rounding noise "
           "measured on that tensor (float32 autograd against float64 autograd, and the manual pass on a "
           "shuffled batch), scaled by u: normalisation layers can amplify rounding far beyond u.")

st.subheader("Break it")
if report.ill_conditioned:
    st.warning(f"**This network is ill-conditioned.** Rounding is amplified so much that float32 keeps only "
               f"about {max(report.float32_digits, 0):.0f} correct digits of some layer's gradient (normalising "
               "features whose spread is tiny divides by a tiny number). Every comparison below, float64 "
               "finite differences included, is unreliable here.", icon=":material/warning:")
bad_layers = sorted(set(report.tensors.loc[~report.tensors["pass"], "layer"]))
shown_layer = min(bug_layer, deep["deep_depth"])
if bug == "none" and report.all_pass:
    st.success(f"No mistake planted, and every tensor agrees with autograd within what {dtype} can resolve. "
               "Pick a classic mistake above and see whether the checker catches it, and where.",
               icon=":material/check_circle:")
elif bug == "none":
    st.error(f"No mistake planted, yet layer(s) {', '.join(bad_layers) or 'of the sampled entries'} disagree "
             "beyond rounding.", icon=":material/error:")
elif report.first_bad_layer is None:
    st.warning(f"Planted “{BUG_LABELS[bug]}” at layer {shown_layer}, but it changes nothing beyond rounding "
               "here (a linear activation's slope is already 1, a transpose of a non-square matrix cannot be "
               "dropped, or the layer's true gradient is itself zero). Try another layer or activation.",
               icon=":material/help:")
else:
    st.error(f"Planted “{BUG_LABELS[bug]}” at layer {shown_layer}. Walking back from the "
             f"output, the first layer whose gradient disagrees with autograd is **layer "
             f"{report.first_bad_layer}**: the layers above it are still right, because backprop computes "
             "them before it reaches the mistake.", icon=":material/bug_report:")
controls.code_for_view("autograd", v | {"dtype": dtype})
