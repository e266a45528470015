// Public API of the fare engine: policy model and parser, metro network, rating, GTFS-Fares v2 import.
export { cardTypes, isCardType, offlineUploadDaysDefault, PolicyError } from './model.js';
export type { BusRoute, CardType, Concession, FareBand, FarePolicy, MetroLine, MetroPolicy, MetroStation, OdFares, TimeWindow, TransferRule } from './model.js';
export { parsePolicy } from './policy.js';
export { distanceFare, formatKm, metroNetwork, shortestDistancesM } from './network.js';
export type { MetroNetwork, OdFare } from './network.js';
export { emptyDayState, parseCardDayState } from './state.js';
export type { CardDayState, OpenJourney } from './state.js';
export { closeOpenJourney, cutoverExitMsMax, cutoverJourneyMsMax, rateDay, rateTap, tapBusinessDate } from './engine.js';
export type { Charged, DayRating, Declined, FareCard, FareDeclineCode, MetroJourney, Tap, TapKind, TapResult } from './engine.js';
export { offlineDebtLookbackDays, offlineRideMaxFen, offlineRides, offlineRidesMax } from './offline-budget.js';
export { CsvError, parseCsv } from './csv.js';
export { amountToFen, importGtfsFares, importGtfsFeed, type GtfsImport, type GtfsImportOptions } from './gtfs.js';
export type { GtfsFiles } from './gtfs.js';
