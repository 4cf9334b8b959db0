module.exports = {
  displayName: 'lock-manager',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
