import type { MessageVerdict } from '@cairn/protocol';

/**
 * How a NATS message's sender is proven and checked: the RPC client signs every request, the
 * transport's responders refuse any request whose signature does not verify. Implemented by the
 * service's cluster credentials (service-kit).
 */
export interface MessageAuthenticator {
  /** The value of the MESSAGE_AUTH_HEADER header for this subject and payload. */
  sign(subject: string, payload: Uint8Array): string;
  verify(header: string | undefined, subject: string, payload: Uint8Array): MessageVerdict;
}
