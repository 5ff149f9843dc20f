import type { Page } from 'playwright-core';

/**
 * Text on the page whose contrast with what is behind it is under WCAG 2.2 AA (4.5:1, or 3:1 for
 * large text): computed from the rendered colours, each background blended up its ancestors.
 * Disabled controls are exempt (WCAG 1.4.3); text clipped to nothing (screen-reader only) is skipped.
 */
export function contrastProblems(page: Page): Promise<string[]> {
  // Plain JavaScript run in the page (the tests are compiled without the DOM's types).
  return page.evaluate<string[]>(String.raw`(() => {
    const parse = (value) => {
      const match = /rgba?\(([^)]+)\)/.exec(value);
      if (!match) return null;
      const parts = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    const backdrop = (element) => {
      const layers = [];
      for (let e = element; e; e = e.parentElement) {
        const colour = parse(getComputedStyle(e).backgroundColor);
        if (colour && colour.a > 0) {
          layers.push(colour);
          if (colour.a >= 1) break;
        }
      }
      return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
    };
    const opacity = (element) => {
      let product = 1;
      for (let e = element; e; e = e.parentElement) product *= Number(getComputedStyle(e).opacity);
      return product;
    };
    const luminance = (c) => {
      const channel = (v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
    };
    const problems = [];
    for (const element of document.querySelectorAll('body *')) {
      if (!(element instanceof HTMLElement)) continue;
      if (![...element.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '')) continue;
      const rect = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (rect.width < 2 || rect.height < 2 || style.visibility === 'hidden' || rect.right < 0 || rect.bottom < 0) continue;
      if (element.closest('button:disabled, [aria-disabled="true"], option')) continue;
      const background = backdrop(element);
      const text = parse(style.color);
      const shown = over({ ...text, a: text.a * opacity(element) }, background);
      const [light, dark] = [luminance(shown), luminance(background)].sort((x, y) => y - x);
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) problems.push(element.tagName.toLowerCase() + ' "' + (element.textContent ?? '').trim().slice(0, 48) + '": ' + ratio.toFixed(2) + ':1');
    }
    return problems;
  })()`);
}
