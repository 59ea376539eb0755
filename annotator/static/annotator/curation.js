// The curation page: drag handles and keys on the edges of a candidate being edited.
import { enableBoundaryEditors } from "./boundary.js";

enableBoundaryEditors(document);
document.body.addEventListener("htmx:afterSettle", () => enableBoundaryEditors(document));
