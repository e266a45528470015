// Medical settlements: the pure split calculator (fund / medical account / purse / cash) and its
// policy and year-to-date types. See docs/medical.md.
export {
  computeSplit,
  itemCodeMaxLength,
  itemsMax,
  MedicalPolicyError,
  medicalYearOf,
  parseMedicalPolicy,
  reverseYtd,
} from './split.js';
export type {
  MedicalItem,
  MedicalPolicy,
  MedicalSplit,
  MedicalSplitError,
  MedicalSplitInput,
  MedicalSplitResult,
  YearToDate,
} from './split.js';
