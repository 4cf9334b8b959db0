import { bucketLifecycleProblem, validateLifecycleConfiguration } from '@cairn/protocol';
import { renderLifecycleConfiguration } from '../../s3-gateway/bucket-lifecycle.handlers';
import { parseLifecycleConfiguration } from './lifecycle-configuration.parser';

const TARGETS = new Set(['GLACIER_IR', 'STANDARD_IA']);
const FULL = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>60</Days><StorageClass>GLACIER_IR</StorageClass></Transition>
    <Expiration><Days>365</Days></Expiration>
    <NoncurrentVersionTransition><NoncurrentDays>40</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>90</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>
  </Rule>
  <Rule><Prefix>tmp/</Prefix><Status>Disabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
  <Rule><ID>tagged</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>tier</Key><Value>tmp</Value></Tag><Tag><Key>x</Key><Value></Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter>
    <Status>Enabled</Status><Expiration><Date>2027-01-01T00:00:00.000Z</Date></Expiration></Rule>
  <Rule><ID>one-tag</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
  <Rule><ID>all</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
</LifecycleConfiguration>`;

const problemOf = (xml: string) => {
  try {
    return bucketLifecycleProblem(parseLifecycleConfiguration(xml), TARGETS)?.code ?? 'valid';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('LifecycleConfiguration XML', () => {
  it('parses every element S3 defines and renders the same configuration back', () => {
    const config = validateLifecycleConfiguration(parseLifecycleConfiguration(FULL), TARGETS);
    expect(config.rules.map((r) => r.id ?? r.prefix)).toEqual(['logs', 'tmp/', 'tagged', 'one-tag', 'all']);
    expect(config.rules[2].filter).toEqual({ and: { prefix: 'a/', tags: [{ key: 'tier', value: 'tmp' }, { key: 'x', value: '' }], objectSizeGreaterThan: 10 } });
    expect(config.rules[4].filter).toEqual({});
    const rendered = renderLifecycleConfiguration(config);
    expect(validateLifecycleConfiguration(parseLifecycleConfiguration(rendered), TARGETS)).toEqual(config);
  });

  it.each([
    ['an empty body', '', 'MalformedXML'],
    ['another root', '<CORSConfiguration/>', 'MalformedXML'],
    ['an unknown element', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiry/></Rule></LifecycleConfiguration>', 'MalformedXML'],
    ['days that are not a number', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><Days>x</Days></Expiration></Rule></LifecycleConfiguration>', 'MalformedXML'],
    ['two Status elements', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>', 'MalformedXML'],
    ['two tags outside an And', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>1</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>', 'MalformedXML'],
    ['a marker flag that is no boolean', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration></Rule></LifecycleConfiguration>', 'MalformedXML'],
    ['zero days', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>', 'InvalidArgument'],
    ['no action', '<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/></Rule></LifecycleConfiguration>', 'InvalidRequest'],
  ])('refuses %s', (_, xml, code) => expect(problemOf(xml)).toBe(code));
});
