// The rule's type, for the unit test that runs it.
import type { Rule } from 'eslint';

declare const rule: Rule.RuleModule;
export default rule;
