DROP TABLE processed_events;
DROP TABLE registration_transitions;
DROP TABLE registrations;
DROP TABLE annual_plan_documents;
DROP TABLE annual_plans;
DROP TABLE cycle_calendars;
