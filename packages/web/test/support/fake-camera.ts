import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

const WIDTH = 640;
const HEIGHT = 480;
const FRAMES = 2;
const QUIET_ZONE = 4;

/**
 * One luminance plane showing `text` as a QR code, black on white, centred; a blank white
 * plane when text is null (the camera pointed at nothing yet).
 */
function lumaOf(text: string | null): Buffer {
  const luma = Buffer.alloc(WIDTH * HEIGHT, 235);
  if (text === null) return luma;
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const scale = Math.floor((HEIGHT - 40) / (modules.size + 2 * QUIET_ZONE));
  const left = Math.floor((WIDTH - modules.size * scale) / 2);
  const top = Math.floor((HEIGHT - modules.size * scale) / 2);
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (!modules.get(row, col)) continue;
      for (let y = 0; y < scale; y++) luma.fill(16, (top + row * scale + y) * WIDTH + left + col * scale, (top + row * scale + y) * WIDTH + left + (col + 1) * scale);
    }
  }
  return luma;
}

/**
 * A YUV4MPEG2 (4:2:0) clip for Chromium's fake camera: a header line, then per frame "FRAME\n",
 * the Y plane and neutral U and V planes. Every clip has the same size, so one can be written
 * over another in place.
 */
export function y4mOf(text: string | null): Buffer {
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n', 'ascii'), lumaOf(text), chroma]);
  return Buffer.concat([header, ...Array.from({ length: FRAMES }, () => frame)]);
}

/**
 * The file behind Chromium's `--use-file-for-fake-video-capture`. Chromium reads the clip's
 * frames from the open file as it plays them, so `show` overwriting it in place (same size, no
 * truncation) changes what a running camera sees, like a phone pointed at another screen.
 */
export class FakeCamera {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    writeFileSync(path, y4mOf(null));
  }

  show(text: string | null): void {
    writeFileSync(this.path, y4mOf(text), { flag: 'r+' });
  }
}
