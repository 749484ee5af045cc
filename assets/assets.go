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

// LicensingProductsCSVGz is Microsoft's "Product names and service plan
// identifiers for licensing" table as published in late December 2025,
// gzipped as downloaded (UTF-8 with BOM): 5,457 rows, one per product ×
// service plan. connector/catalog parses it; an administrator can load a
// newer download of the same shape instead.
//
//go:embed licensing-products.csv.gz
var LicensingProductsCSVGz []byte
