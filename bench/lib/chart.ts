// A horizontal bar chart as a standalone SVG (no dependencies): one bar per server, value labels at
// the bar ends. Used for "server CPU per call" in bench/results/ and BENCHMARKS.md.

export interface Bar {
  label: string;
  value: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function barChartSvg(title: string, unit: string, bars: readonly Bar[]): string {
  const width = 760;
  const labelWidth = 230;
  const barHeight = 26;
  const gap = 10;
  const top = 44;
  const height = top + bars.length * (barHeight + gap) + 24;
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
  const scale = (width - labelWidth - 110) / max;
  const rows = bars.map((b, i) => {
    const y = top + i * (barHeight + gap);
    const w = Number.isFinite(b.value) ? Math.max(1, b.value * scale) : 0;
    const text = Number.isFinite(b.value) ? `${b.value < 10 ? b.value.toFixed(2) : b.value.toFixed(1)} ${unit}` : 'n/a';
    return [
      `<text x="${labelWidth - 8}" y="${y + barHeight * 0.68}" text-anchor="end" font-size="13">${esc(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${i === 0 ? '#2f7d32' : '#7a8a99'}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + barHeight * 0.68}" font-size="13">${esc(text)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    ...rows,
    `</svg>`,
    '',
  ].join('\n');
}
