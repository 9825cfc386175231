// A chatd for the Node.js tests (tests/web, tests/api): CHATD_BINARY on a free port of
// 127.0.0.1 against CHATD_DATABASE_URL, started and waited for until /healthz answers.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// Starts chatd on `port` with the tests' settings (bcrypt cost 4, files under `dataDir`) and
// `secret`; resolves with the process once /healthz answers.
export async function startChatd(port, dataDir, secret) {
  const server = spawn(process.env.CHATD_BINARY, [], {
    env: { ...process.env, CHATD_PORT: String(port), CHATD_ADDRESS: "127.0.0.1",
           CHATD_JWT_SECRET: secret, CHATD_BCRYPT_COST: "4", CHATD_DATA_DIR: dataDir,
           CHATD_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 600; i++) {  // 30 s: a cold 600 MB sanitizer binary starts slowly
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return server; } catch {}
    await sleep(50);
  }
  server.kill("SIGKILL");
  throw new Error("chatd did not start");
}
