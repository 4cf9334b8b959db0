import base, { pureCodeRules } from '../../eslint.config.mjs';

// A service's domain folder is pure (docs/conventions.md): deciders and rules without I/O or clocks.
export default [...base, { ...pureCodeRules, files: ['src/domain/**/*.ts'] }];
