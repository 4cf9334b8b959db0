export interface ServiceIdentity {
  readonly service: string;
  readonly instance: string;
  readonly region: string;
  readonly namespace: string;
  readonly version: string;
}

export const SERVICE_IDENTITY = Symbol('SERVICE_IDENTITY');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const CAIRN_VERSION = '0.1.0';
