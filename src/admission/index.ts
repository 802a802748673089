/** Admission checks before a server is trusted: typosquats, tool poisoning and client-config scanning (`portcullis scan`). */
export { findTyposquats, typosquatSuspects, skeleton, foldConfusables, editDistance, splitPackage, type TyposquatMatch, type TyposquatReason } from './typosquat.js';
export { findConfigTyposquats, type ConfigTyposquat, type ConfiguredServerLike } from './config-typosquats.js';
export { KNOWN_NPM_PACKAGES, KNOWN_PYPI_PACKAGES } from './known-servers.js';
export { analyseLaunch, type Launch } from './launch.js';
export { readClientConfig, parseClientConfig, resolveConfigPaths, defaultConfigPaths, ScanUsageError, type ClientConfigFile, type ClientKind, type ConfiguredServer } from './client-config.js';
export { scanClientConfigs, scanConfigs, reachesSeverity, RULES, SEVERITIES, type ScanFinding, type ScanReport, type Severity, type RuleId } from './scan.js';
export { renderScan, toSarif, type ScanFormat } from './render.js';
export { verifyArtifactBundle, ArtifactSignatureError, type SigstorePolicy, type VerifiedArtifact, type ArtifactSignatureErrorCode } from './sigstore.js';
export { fetchSpkiPin, pinnedFetch, TlsPinError } from './tls-pin.js';
export {
  checkOffers,
  checkTool,
  checkPrompt,
  checkResourceTemplate,
  checkInstructions,
  isPoisoned,
  type ServerOffer,
  type PoisonFinding,
  type PoisonRule,
  type PoisonKind,
  type PoisonSeverity,
  type CheckContext,
  type OtherServers,
} from './poisoning.js';
export { importClientConfig, SECRET_PLACEHOLDER, type ImportOptions, type ImportResult } from './import.js';
