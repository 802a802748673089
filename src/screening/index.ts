/**
 * Screening of what crosses the gateway: sanitiser, injection detector,
 * secrets/PII redaction, spotlighting. See docs/detection.md.
 */
export { sanitise, sanitiseText, mergeRemovals, hostAllowed, type SanitiseOptions, type SanitiseResult, type Removal, type RemovalKind } from './sanitise.js';
export { detectInjection, defaultDetector, InjectionDetector, type DetectOptions, type Detection, type TextKind } from './detector.js';
export { findSecrets, redactSecrets, redactText, sharedScanMemo, summarise as summariseFindings, luhnValid, ibanValid, isCredentialKey, type Finding, type SecretKind, type PiiKind, type SecretCount, type FindOptions, type RedactOptions } from './secrets.js';
export { spotlight, unspotlight, newNonce, type Spotlighted, type SpotlightOptions } from './spotlight.js';
export { runDetectCli, type DetectCliSummary } from './cli.js';
export { screenValue, detectInValue, textsOf, type ScreenOptions, type ScreenOutcome } from './screen.js';
