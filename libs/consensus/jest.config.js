module.exports = {
  displayName: 'consensus',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
