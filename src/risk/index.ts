/** Risk rating of tools, tier gates, and the `portcullis risk` inventory. */
export * from './types.js';
export { rateTool, tierOf } from './rate.js';
export { RiskModel, defaultGates, explicitlyAllowed, describeGate, riskAssessor, type RateableTool, type RiskCard } from './model.js';
export { collectInventory, buildInventory, type Inventory, type InventoryTool, type InventoryAccess, type InventoryServer, type ServerTools } from './inventory.js';
export { renderInventory, renderTable, renderMarkdown, renderHtml, toJson, type RiskFormat } from './render.js';
