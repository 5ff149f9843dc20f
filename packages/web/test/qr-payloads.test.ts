import { describe, expect, it } from 'vitest';
import { activationCodeOf, isLinkQr, readActivationQr } from '../src/app/device/qr-payloads.ts';

const HERE = 'https://tasdiq.uz';
const HMAC = 'd8b22e88c445ccc792fd56a2f1be8c5e8157e5adbe10c4eec44652674baa00cb';

describe('what the app accepts from a scanned QR code', () => {
  it('takes the code of an activation QR issued by its own server', () => {
    expect(readActivationQr(`tasdiq://activate?code=7KQM2XPA9DRTHF4C&server=${encodeURIComponent(HERE)}`, HERE)).toEqual({ code: '7KQM2XPA9DRTHF4C' });
    // The server's address may carry a path or trailing slash: only its origin counts.
    expect(readActivationQr(`tasdiq://activate?code=7kqm-2xpa&server=${encodeURIComponent(`${HERE}/`)}`, HERE)).toEqual({ code: '7KQM2XPA' });
    expect(readActivationQr('tasdiq://activate?code=7KQM2XPA', HERE)).toEqual({ code: '7KQM2XPA' });
  });

  it('turns away an activation QR of another server, naming it', () => {
    expect(readActivationQr(`tasdiq://activate?code=7KQM2XPA&server=${encodeURIComponent('https://tasdiq.example')}`, HERE)).toEqual({ problem: 'otherServer', server: 'https://tasdiq.example' });
    expect(readActivationQr(`tasdiq://activate?code=7KQM2XPA&server=${encodeURIComponent('http://tasdiq.uz')}`, HERE)).toEqual({ problem: 'otherServer', server: 'http://tasdiq.uz' });
  });

  it('turns away anything else without throwing', () => {
    for (const text of ['https://tasdiq.uz/activate?code=7KQM2XPA', 'tasdiq://activate?server=x', 'tasdiq://activate?code=', 'tasdiq://auth/as_1', 'tasdiq://activate?code=AB&server=not a url', '', 'WIFI:S:cafe;;']) {
      expect(readActivationQr(text, HERE)).toEqual({ problem: 'notActivationQr' });
    }
  });

  it('reads the code typed by hand or pasted as the URI, and never throws on odd input', () => {
    expect(activationCodeOf(' 7kqm 2xpa-9drt ')).toBe('7KQM2XPA9DRT');
    expect(activationCodeOf('tasdiq://activate?code=7KQM2XPA&server=x')).toBe('7KQM2XPA');
    expect(activationCodeOf('tasdiq://[')).toBe('TASDIQ://[');
  });

  it('knows the rotating device-link QR of a sign-in page', () => {
    expect(isLinkQr(`tasdiq.as_Q2hhbGxlbmdlRXhhbXBsZQ.7.${HMAC}`)).toBe(true);
    for (const text of [`tasdiq.as_Q2h.7.${HMAC.slice(1)}`, `tasdiq.as_Q2h.x.${HMAC}`, `tasdiq..7.${HMAC}`, `tasdiq.as Q.7.${HMAC}`, `tasdiq.as_Q.7.${HMAC}\n`, 'tasdiq://activate?code=7KQM2XPA']) {
      expect(isLinkQr(text)).toBe(false);
    }
  });
});
