// Package assets holds the resources embedded in the binary.
package assets

import _ "embed"

// IconPNG is the application icon (512×512), rendered from icon.svg with
// `rsvg-convert -w 512 -h 512 assets/icon.svg -o assets/icon.png`.
//
//go:embed icon.png
var IconPNG []byte

// IconSVG is the icon's source.
//
//go:embed icon.svg
var IconSVG []byte
