// The one place the UI talks to the Rust core: every call goes through the generated,
// typed bindings; a failed call throws a ProblemError carrying the core's Problem (what
// happened, what to do, and the fields or mapping cells it is about).
import { commands, type Problem } from "./bindings";

export { commands };

export class ProblemError extends Error {
  constructor(public problem: Problem) {
    super(problem.message);
  }
}

type Answer<T> = { status: "ok"; data: T } | { status: "error"; error: Problem };

/** Unwraps a command's answer: the value, or a thrown ProblemError. */
export async function call<T>(answer: Promise<Answer<T>>): Promise<T> {
  let r: Answer<T>;
  try {
    r = await answer;
  } catch (e) {
    // The IPC itself failed (the app is shutting down, a bug): still say what to do.
    throw new ProblemError({
      kind: "internal",
      message: `Keybridge did not answer (${String(e)}). Restart Keybridge; if it repeats, check its log.`,
      fields: [],
      rows: [],
    });
  }
  if (r.status === "error") throw new ProblemError(r.error);
  return r.data;
}

/** The problem inside anything thrown. */
export function problemOf(e: unknown): Problem {
  if (e instanceof ProblemError) return e.problem;
  return { kind: "internal", message: String(e), fields: [], rows: [] };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}

export function formatUptime(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}
