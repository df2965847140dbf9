// CPU time of whole process trees, read from /proc: each stack process is the root of its role's tree (tsx and the
// node it starts, Postgres and its backends, the Temporal CLI and its server), so a tree's time is that role's.
import fs from 'node:fs';

/** Clock ticks per second of /proc's times; 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  ticks: number;
}

function readProcs(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    // The command name, in parentheses, may hold spaces: the fields after it are fixed. ppid is field 4 of the
    // line; utime, stime, cutime and cstime (with the children each has reaped) are fields 14–17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    procs.set(Number(entry), { ppid: Number(fields[1]), ticks });
  }
  return procs;
}

function treeSeconds(procs: Map<number, ProcStat>, root: number): number {
  let ticks = 0;
  for (const [pid, proc] of procs) {
    // Walk up to the root or to init; Postgres backends sit in sessions of their own, so groups would miss them.
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = procs.get(at)?.ppid) {
      if (at === root) {
        ticks += proc.ticks;
        break;
      }
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Seconds of CPU (user and system) used so far by the process `root` and everything under it. */
export function treeCpuSeconds(root: number): number {
  return treeSeconds(readProcs(), root);
}

/** This process's own CPU seconds (user and system). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** A reading of every role's CPU seconds, each role named by the root process of its tree. */
export function readCpu(roots: Record<string, number>): Record<string, number> {
  const procs = readProcs();
  return Object.fromEntries(Object.entries(roots).map(([name, root]) => [name, treeSeconds(procs, root)]));
}

export function cpuSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - (before[name] ?? 0)]));
}
