// Play / Pause for /flow's recorded epochs (dashboard/player.py). The frames play here, in the
// browser: every tick writes the epoch into the hidden input #bp-frame, and each animated chart's
// Vega view listens to that input itself (charts.FRAME). The server hears only Pause, once.
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement;
  const input = document.getElementById("bp-frame");           // drawn by st.html above the charts
  const state = root.bpPlayer || (root.bpPlayer = { timer: null });
  const stop = () => { clearInterval(state.timer); state.timer = null; };
  stop();
  const epochs = data.epochs;
  let i = Math.max(0, epochs.indexOf(data.epoch));
  if (data.playing && i === epochs.length - 1) i = 0;          // at the end, play from the start
  const bar = root.querySelector(".bp-bar");
  const label = root.querySelector(".bp-label");
  const show = () => {
    input.value = String(epochs[i]);
    input.dispatchEvent(new Event("input"));
    bar.max = epochs.length - 1;
    bar.value = i;
    label.textContent = `epoch ${epochs[i]} (${i + 1} of ${epochs.length} recorded)`;
  };
  root.querySelector(".bp-controls").hidden = !data.playing;
  if (data.playing) {
    state.timer = setInterval(() => { i = (i + 1) % epochs.length; show(); }, data.ms);
    root.querySelector(".bp-pause").onclick = () => { stop(); setTriggerValue("pause", epochs[i]); };
  }
  show();
  return stop;
}
