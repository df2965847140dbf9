// Weekly slot templates: what makes a plan invalid, and how it becomes UTC slots in the location's time zone.
import { describe, expect, it } from 'vitest';
import { planSlots, templateProblems, type SlotTemplate } from '../../src/domain/slots.js';

const t = (weekday: number, start: string, end: string, cutoffMinutes = 30): SlotTemplate => ({
  weekday,
  start,
  end,
  capacity: 5,
  cutoffMinutes,
});

describe('templateProblems', () => {
  it('accepts back-to-back slots and the same hours on other days', () => {
    expect(templateProblems([t(1, '09:00', '10:00'), t(1, '10:00', '11:00'), t(2, '09:00', '10:00')])).toEqual([]);
  });

  it('names the field of an end before start and of an overlap', () => {
    expect(templateProblems([t(1, '10:00', '09:00')])).toEqual([{ field: '/0/end', message: 'must be after start' }]);
    expect(templateProblems([t(3, '09:00', '11:00'), t(3, '10:30', '12:00')])).toEqual([
      { field: '/1/start', message: 'overlaps template 0 on weekday 3' },
    ]);
  });
});

describe('planSlots', () => {
  it('turns local wall-clock times into UTC instants, across a daylight-saving change', () => {
    // Sunday 2026-03-29 is the day London moves from GMT to BST.
    const from = new Date('2026-03-28T00:30:00Z');
    const slots = planSlots([t(6, '09:00', '10:00', 15), t(1, '09:00', '10:00', 15)], 'Europe/London', from, 3);
    expect(slots.map((s) => [s.startsAt.toISOString(), s.endsAt.toISOString(), s.cutoffAt.toISOString()])).toEqual([
      ['2026-03-28T09:00:00.000Z', '2026-03-28T10:00:00.000Z', '2026-03-28T08:45:00.000Z'],
      ['2026-03-30T08:00:00.000Z', '2026-03-30T09:00:00.000Z', '2026-03-30T07:45:00.000Z'],
    ]);
  });

  it('leaves out slots whose cutoff has already passed', () => {
    const from = new Date('2026-11-23T08:50:00Z'); // a Monday, 08:50 in London
    const slots = planSlots([t(1, '09:00', '10:00', 15), t(1, '10:00', '11:00', 15)], 'Europe/London', from, 1);
    expect(slots.map((s) => s.startsAt.toISOString())).toEqual(['2026-11-23T10:00:00.000Z']);
  });
});
