// The ringtone and the desktop notification of an offer. The tone is made by Web Audio (425 Hz, one
// second on, three off) and played by an <audio> element, so it goes to the output device the person
// chose (a loudspeaker while the headset is for calls); the choice is kept in localStorage.
const KEPT = "callisto.ringer";

export class Ringer {
  device = localStorage.getItem(KEPT) ?? "";
  private context: AudioContext | null = null;
  private player: HTMLAudioElement | null = null;

  choose(device: string): void {
    this.device = device;
    localStorage.setItem(KEPT, device);
  }

  /** The output devices there are (names show once the page may use the microphone). */
  static async outputs(): Promise<MediaDeviceInfo[]> {
    if (!navigator.mediaDevices?.enumerateDevices) return [];
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audiooutput");
  }

  async start(): Promise<void> {
    if (this.context) return;
    const context = new AudioContext();
    this.context = context;
    const tone = context.createOscillator();
    tone.frequency.value = 425;
    const gain = context.createGain();
    const cadence = context.createGain(); // 1 s on, 3 s off, for as long as it rings
    gain.gain.value = 0.2;
    const now = context.currentTime;
    for (let second = 0; second < 120; second += 4) {
      cadence.gain.setValueAtTime(1, now + second);
      cadence.gain.setValueAtTime(0, now + second + 1);
    }
    const out = context.createMediaStreamDestination();
    tone.connect(gain).connect(cadence).connect(out);
    tone.start();
    const player = new Audio();
    player.dataset.ringer = "true";
    player.srcObject = out.stream;
    this.player = player;
    const sink = player as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (this.device && sink.setSinkId) await sink.setSinkId(this.device).catch(() => undefined);
    await player.play().catch(() => undefined); // a page not yet touched may not play: the toast shows
  }

  stop(): void {
    this.player?.pause();
    this.player = null;
    void this.context?.close();
    this.context = null;
  }

  get ringing(): boolean {
    return this.context !== null;
  }
}

/** Asked once after signing in; an offer is then shown by the desktop while the tab is hidden. */
export function askToNotify(): void {
  if ("Notification" in window && Notification.permission === "default") void Notification.requestPermission();
}

export function notifyOffer(title: string, body: string): void {
  if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
  const shown = new Notification(title, { body, tag: "callisto-offer", requireInteraction: true });
  shown.onclick = () => {
    window.focus();
    shown.close();
  };
}
