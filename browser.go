package simpleuser

import "github.com/simpleuser/simpleuser/browser"

// BrowserConfig configures how browsers use the kit: cookie mode, the
// session and device cookies, and the origins of browser apps served from
// other origins (see browser.Config for each field and its default).
type BrowserConfig = browser.Config
