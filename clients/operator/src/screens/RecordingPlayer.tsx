// A call's recording, for those allowed to hear it (recording decides: an operator hears their own
// agent's calls; for others the button never appears): the native player (keyboard, seek — the
// browser asks for byte ranges —, volume) with speed and a choice of channel: both, the customer
// (left) or the agent (right) alone, through Web Audio. The audio comes through a play link signed
// for the person, since an <audio> element sends no token; each listen is written down.
import { useEffect, useRef, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/recording";
import { t } from "../i18n";
import type { Session } from "../session";

type Recording = components["schemas"]["Recording"];
type PlayLink = components["schemas"]["PlayLink"];
type Channel = "both" | "customer" | "agent";
const SPEEDS = [0.75, 1, 1.25, 1.5, 2];

/** The recording of a call, if there is one the person may hear. */
export function CallRecording({ session, callId }: { session: Session; callId: string }) {
  const [found, setFound] = useState<Recording | null>(null);
  useEffect(() => {
    void call<Recording[]>("recording", `v1/recordings?call_id=${encodeURIComponent(callId)}&limit=1`, { token: session.access })
      .then((list) => setFound(list[0] ?? null))
      .catch(() => setFound(null)); // not allowed, or the service away: no player
  }, [callId]);
  return found ? <RecordingPlayer session={session} recording={found} /> : null;
}

export function RecordingPlayer({ session, recording }: { session: Session; recording: Recording }) {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [speed, setSpeed] = useState(1);
  const [channel, setChannel] = useState<Channel>("both");
  const audio = useRef<HTMLAudioElement>(null);
  const route = useRef<{ context: AudioContext; left: GainNode; right: GainNode; merger: ChannelMergerNode; split: ChannelSplitterNode } | null>(null);

  const open = async () => {
    try {
      const link = await call<PlayLink>("recording", `v1/recordings/${recording.id}/link`, { token: session.access, method: "POST" });
      setSrc(`/svc/recording/api/${link.path}`);
    } catch (failure) {
      setError(String(failure instanceof Error ? failure.message : failure));
    }
  };
  useEffect(() => {
    if (audio.current) audio.current.playbackRate = speed;
  }, [speed, src]);
  useEffect(() => {
    const element = audio.current;
    if (!element || !src || (channel === "both" && route.current === null)) return;
    if (route.current === null) {
      const context = new AudioContext();
      const source = context.createMediaElementSource(element);
      const split = context.createChannelSplitter(2);
      const merger = context.createChannelMerger(2);
      const left = context.createGain();
      const right = context.createGain();
      source.connect(split);
      split.connect(left, 0);
      split.connect(right, 1);
      merger.connect(context.destination);
      route.current = { context, left, right, merger, split };
    }
    const { left, right, merger } = route.current;
    left.disconnect();
    right.disconnect();
    if (channel !== "agent") left.connect(merger, 0, 0), left.connect(merger, 0, channel === "both" ? 0 : 1);
    if (channel !== "customer") right.connect(merger, 0, 1), right.connect(merger, 0, channel === "both" ? 1 : 0);
    void route.current.context.resume();
  }, [channel, src]);

  const minutes = `${Math.floor(recording.duration_s / 60)}:${String(Math.round(recording.duration_s % 60)).padStart(2, "0")}`;
  return (
    <div class="player" data-testid="recording-player" data-recording={recording.id}>
      {src === null ? (
        <button type="button" onClick={() => void open()}>
          {t("listen")} ({minutes})
        </button>
      ) : (
        <>
          <audio ref={audio} controls preload="metadata" src={src} aria-label={t("recording")} />
          <label class="inline">
            {t("speed")}{" "}
            <select value={String(speed)} onChange={(e) => setSpeed(Number((e.target as HTMLSelectElement).value))}>
              {SPEEDS.map((s) => <option value={String(s)}>{s}×</option>)}
            </select>
          </label>
          <label class="inline">
            {t("channels")}{" "}
            <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value as Channel)}>
              {(["both", "customer", "agent"] as const).map((c) => <option value={c}>{t(`channel.${c}`)}</option>)}
            </select>
          </label>
          <Pauses recording={recording} />
          <small>
            {t("talkCustomer")} {Math.round((recording.ratios["customer_talk"] ?? 0) * 100)}% · {t("talkAgent")}{" "}
            {Math.round((recording.ratios["agent_talk"] ?? 0) * 100)}% · {t("overtalk")} {Math.round((recording.ratios["overtalk"] ?? 0) * 100)}%
            {recording.segments > 1 ? ` · ${recording.segments} ${t("segments")}` : ""}
          </small>
        </>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

/** The recorded stretches on a bar as long as the call; the gaps between them were paused (a card
 *  number read out) and are silence in the file. */
function Pauses({ recording }: { recording: Recording }) {
  const spans = recording.spans;
  const gaps = spans.slice(1).map((span, i) => [spans[i]![1], span[0]] as const).filter(([a, b]) => b - a >= 0.5);
  if (gaps.length === 0) return null;
  const at = (s: number) => `${(100 * s) / Math.max(recording.duration_s, 0.001)}%`;
  return (
    <div class="pauses" data-testid="paused-spans" title={t("pausedSpans")}>
      {gaps.map(([from, to]) => (
        <span class="gap" style={{ left: at(from), width: at(to - from) }} />
      ))}
      <small>
        {t("paused")}: {gaps.map(([from, to]) => `${clock(from)}–${clock(to)}`).join(", ")}
      </small>
    </div>
  );
}
