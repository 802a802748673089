/**
 * A server that must not run: its artifact or identity is not the pinned one.
 * Unlike a crash, this is final — restarting would only run the wrong thing again.
 */
export class AdmissionRefusal extends Error {
  override name = 'AdmissionRefusal';
}

/** The gateway cannot start as configured (no lock, bad signatures, a server not in the lock). */
export class AdmissionError extends Error {
  override name = 'AdmissionError';
}
