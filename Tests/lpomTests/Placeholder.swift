// Package.swift declares the `lpomTests` target; SwiftPM refuses to build the package at all
// (not even `swift build`) while its directory has no source file. The CLI's tests replace this.
import XCTest
