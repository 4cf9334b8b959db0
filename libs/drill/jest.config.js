module.exports = {
  displayName: 'drill',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
};
