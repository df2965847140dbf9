// Slot plans: weekly templates in a location's local time, checked for sense and turned into concrete UTC slots.
import { DateTime } from 'luxon';

export interface SlotTemplate {
  /** ISO weekday: 1 is Monday, 7 is Sunday. */
  weekday: number;
  /** Local wall-clock times, "HH:MM". */
  start: string;
  end: string;
  capacity: number;
  /** How long before the slot starts ordering closes. */
  cutoffMinutes: number;
}

export interface PlannedSlot {
  startsAt: Date;
  endsAt: Date;
  cutoffAt: Date;
  capacity: number;
}

export interface TemplateProblem {
  field: string;
  message: string;
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

/** Everything wrong with a weekly plan, each naming its field; empty when the plan makes sense. */
export function templateProblems(templates: SlotTemplate[]): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  templates.forEach((t, i) => {
    if (minutesOf(t.end) <= minutesOf(t.start)) problems.push({ field: `/${i}/end`, message: 'must be after start' });
    if (t.cutoffMinutes < 0)
      problems.push({
        field: `/${i}/cutoffMinutes`,
        message: 'must not be negative: the cutoff cannot come after the slot starts',
      });
  });
  const sorted = templates
    .map((t, i) => ({ ...t, i }))
    .sort((a, b) => a.weekday - b.weekday || minutesOf(a.start) - minutesOf(b.start));
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1]!;
    const cur = sorted[k]!;
    if (prev.weekday === cur.weekday && minutesOf(cur.start) < minutesOf(prev.end)) {
      problems.push({ field: `/${cur.i}/start`, message: `overlaps template ${prev.i} on weekday ${cur.weekday}` });
    }
  }
  return problems;
}

/** The concrete slots of `days` local days from `from`, in the location's time zone. */
export function planSlots(templates: SlotTemplate[], timezone: string, from: Date, days: number): PlannedSlot[] {
  const firstDay = DateTime.fromJSDate(from, { zone: timezone }).startOf('day');
  const slots: PlannedSlot[] = [];
  for (let d = 0; d < days; d++) {
    const day = firstDay.plus({ days: d });
    for (const t of templates.filter((x) => x.weekday === day.weekday)) {
      const at = (hhmm: string) => day.set({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3, 5)) });
      const startsAt = at(t.start);
      slots.push({
        startsAt: startsAt.toJSDate(),
        endsAt: at(t.end).toJSDate(),
        cutoffAt: startsAt.minus({ minutes: t.cutoffMinutes }).toJSDate(),
        capacity: t.capacity,
      });
    }
  }
  return slots.filter((s) => s.cutoffAt > from).sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
}
