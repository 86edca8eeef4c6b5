// Play / Pause for /flow's recorded epochs (dashboard/player.py). The frames play here, in the
// browser: every tick puts the epoch in document.body.value and fires the player's event on the body,
// which each animated chart's Vega view listens to itself (charts.FRAME). With the drawing closed every frame is
// already in the page, so Play sends nothing; with it open, Play asks the server once for the
// drawing's frames. Pause sends the epoch reached, once, for the link.
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement;
  const target = document.body;                                 // always there before any Vega view
  const state = root.bpPlayer || (root.bpPlayer = { timer: null });
  const epochs = data.epochs;
  const play = root.querySelector(".bp-play");
  const pause = root.querySelector(".bp-pause");
  const bar = root.querySelector(".bp-bar");
  const label = root.querySelector(".bp-label");
  let i = Math.max(0, epochs.indexOf(data.epoch));
  const show = () => {
    target.value = String(epochs[i]);
    target.dispatchEvent(new Event(data.event));
    bar.max = epochs.length - 1;
    bar.value = i;
    label.textContent = `epoch ${epochs[i]} (${i + 1} of ${epochs.length} recorded)`;
  };
  const playing = (on) => {
    play.hidden = on; pause.hidden = !on; bar.hidden = !on; label.hidden = !on;
    document.body.classList.toggle("bp-playing", on);             // dims the scrubber, hides the still caption
  };
  const stop = () => { clearInterval(state.timer); state.timer = null; };
  const start = () => {
    if (i === epochs.length - 1) i = 0;                          // at the end, play from the start
    show();
    playing(true);
    state.timer = setInterval(() => { i = (i + 1) % epochs.length; show(); }, data.ms);
  };
  stop();
  play.onclick = () => (data.local ? start() : setTriggerValue("play", true));
  pause.onclick = () => { stop(); playing(false); setTriggerValue("pause", epochs[i]); };
  if (data.playing) {
    start();
  } else {
    show();                                   // the still view's epoch (its frame, where frames are sent)
    playing(false);
  }
  return () => { stop(); document.body.classList.remove("bp-playing"); };
}
