import { scenario } from "./bench/lib.ts";
const s = await scenario({});
function maps(pid: number) {
  const out: Array<[string, number]> = [];
  let cur = "";
  for (const line of Deno.readTextFileSync(`/proc/${pid}/smaps`).split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const size = (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1048576;
      cur = `${m[3] || "[anon]"} size=${size.toFixed(0)}MB@${m[1]}`;
    } else if (line.startsWith("Rss:")) out.push([cur, Number(line.split(/\s+/)[1]) / 1024]);
  }
  return new Map(out);
}
const a = maps(s.bot.pid);
for (let i = 1; i <= 100; i++) await s.ask(`g${i}`);
const b = maps(s.bot.pid);
const diff = [...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as [string, number]).sort((x, y) =>
  y[1] - x[1]
).slice(0, 10);
for (const [k, v] of diff) console.log(`+${v.toFixed(1)} MB  ${k}`);
await s.close();
Deno.exit(0);
