module.exports = {
  displayName: 'hashing',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
