// The two libraries the panel is built on (README "The web panel"), bound once.
import { h, render } from "preact";
import { useState, useEffect, useRef, useCallback } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);
export { render, useState, useEffect, useRef, useCallback };
