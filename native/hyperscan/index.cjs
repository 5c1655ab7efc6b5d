// The compiled addon; requiring this package fails when it was not built (no Hyperscan on the machine).
module.exports = require('./build/Release/hs_prefilter.node')
