/**
 * One label per key use (docs/FORMAT.md §3). Changing any of these changes the format.
 */
export const LABEL_RECIPIENT_X25519 = 'ipsec-ctx/v1/X25519';
export const LABEL_HEADER_MAC = 'ipsec-ctx/v1/header';
export const LABEL_PAYLOAD = 'ipsec-ctx/v1/payload';
export const LABEL_SIGNATURE = 'ipsec-ctx/v1/signature';
export const LABEL_PUBLIC_KEY_CHECKSUM = 'ipsec-ctx/v1/public-key';
export const LABEL_SECRET_KEY_CHECKSUM = 'ipsec-ctx/v1/secret-key';
