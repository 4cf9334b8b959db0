import base, { pureCodeRules } from '../../eslint.config.mjs';

// The domain folder is pure (docs/conventions.md): formatting, ETAs, settings resolution, without I/O or clocks.
export default [...base, { ...pureCodeRules, files: ['src/domain/**/*.ts'] }];
