import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { scannerText, type ScannerKey } from './scanner-messages.ts';
import './scanner.css';

/** Eight decodes a second reads a steady QR at once while leaving a phone's CPU mostly idle. */
const SCAN_INTERVAL_MS = 125;
/** QR codes on a screen or paper stay readable well below camera resolution; decoding fewer pixels is faster. */
const MAX_DECODE_WIDTH = 640;

type Status =
  | { readonly kind: 'idle' }
  | { readonly kind: 'info'; readonly key: ScannerKey }
  | { readonly kind: 'problem'; readonly text: string };

export interface QrScannerProps {
  readonly startLabel: string;
  /**
   * Called with each decoded text: returns why it is not the QR code wanted (shown, and scanning
   * goes on), or nothing when the text is taken (the camera turns off).
   */
  readonly onDecode: (text: string) => string | undefined;
  readonly disabled?: boolean;
}

function cameraProblem(error: unknown): { key: ScannerKey; reason?: string } {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return { key: 'denied' };
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return { key: 'absent' };
  return { key: 'cameraFailed', reason: name || String(error) };
}

/**
 * Reads a QR code through the phone's back camera. The camera runs only while scanning: it is
 * turned off once a code is taken, when the page is hidden, and when the scanner goes away.
 * Typing the code stays the alternative, for a denied or missing camera.
 */
export function QrScanner({ startLabel, onDecode, disabled = false }: QrScannerProps) {
  const t = useTranslate(scannerText);
  const videoRef = useRef<HTMLVideoElement>(null);
  const stopRef = useRef<(() => void) | null>(null);
  const onDecodeRef = useRef(onDecode);
  const [active, setActive] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  useEffect(() => {
    onDecodeRef.current = onDecode;
  }, [onDecode]);

  const stop = useCallback((next: Status) => {
    stopRef.current?.();
    stopRef.current = null;
    setActive(false);
    setStatus(next);
  }, []);

  useEffect(() => () => stopRef.current?.(), []);

  useEffect(() => {
    if (!active) return;
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') stop({ kind: 'info', key: 'stopped' });
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, [active, stop]);

  async function start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      setStatus({ kind: 'problem', text: t('unsupported') });
      return;
    }
    const session = { cancelled: false, stream: null as MediaStream | null, timer: 0 };
    stopRef.current = () => {
      session.cancelled = true;
      clearTimeout(session.timer);
      session.stream?.getTracks().forEach((track) => track.stop());
      if (videoRef.current) videoRef.current.srcObject = null;
    };
    setActive(true);
    setStatus({ kind: 'info', key: 'starting' });
    // The decoder is most of the app's script weight and most visits never scan: fetched on demand,
    // while the camera starts. A failure is reported by the await below, not as unhandled.
    const decoder = import('jsqr').then((module) => module.default);
    decoder.catch(() => undefined);
    let jsQR: Awaited<typeof decoder>;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
      session.stream = stream;
      // Stopped (or unmounted) while the browser was asking: the camera must not stay on.
      if (session.cancelled) return stream.getTracks().forEach((track) => track.stop());
      const video = videoRef.current!;
      video.srcObject = stream;
      await video.play();
      jsQR = await decoder;
    } catch (error) {
      if (session.cancelled) return;
      const problem = cameraProblem(error);
      stop({ kind: 'problem', text: t(problem.key, { reason: problem.reason ?? '' }) });
      return;
    }
    if (session.cancelled) return;
    setStatus({ kind: 'info', key: 'scanning' });

    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    const scan = () => {
      if (session.cancelled) return;
      const video = videoRef.current;
      if (video && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0) {
        const scale = Math.min(1, MAX_DECODE_WIDTH / video.videoWidth);
        const width = Math.round(video.videoWidth * scale);
        const height = Math.round(video.videoHeight * scale);
        if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
        context.drawImage(video, 0, 0, width, height);
        // Screens and printed codes are dark on light; trying the inverse too would double the work.
        const found = jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: 'dontInvert' });
        if (found?.data) {
          const why = onDecodeRef.current(found.data);
          if (why === undefined) return stop({ kind: 'info', key: 'read' });
          setStatus((current) => (current.kind === 'problem' && current.text === why ? current : { kind: 'problem', text: why }));
        }
      }
      session.timer = window.setTimeout(scan, SCAN_INTERVAL_MS);
    };
    scan();
  }

  return (
    <div className="scanner">
      <button type="button" className={active ? 'secondary' : undefined} disabled={disabled && !active} onClick={() => (active ? stop({ kind: 'info', key: 'stopped' }) : void start())}>
        {active ? t('stopCamera') : startLabel}
      </button>
      <video ref={videoRef} className="scanner-video" hidden={!active} muted playsInline aria-label={t('preview')} />
      <p className={status.kind === 'problem' ? 'alert' : 'hint'} aria-live="polite" data-testid="scanner-status">
        {status.kind === 'info' ? t(status.key) : status.kind === 'problem' ? status.text : ''}
      </p>
    </div>
  );
}
