import { scenario } from "./bench/lib.ts";
const s = await scenario({ env: JSON.parse(Deno.env.get("BOT_ENV") ?? "{}") });
const statsNow = async () => {
  Deno.kill(s.bot.pid, "SIGUSR1");
  await new Promise((r) => setTimeout(r, 300));
  return s.bot.log.filter((l) => l.includes("Stats:")).at(-1)!.replace(/.*Stats: /, "");
};
console.log("0:", await statsNow());
for (let i = 1; i <= 300; i++) {
  await s.ask(`g${i}`);
  if (i % 100 === 0) console.log(`${i}:`, await statsNow());
}
await s.close();
Deno.exit(0);
